"""The report's parts, one module each: every part builds its piece of the context from the results and the Summary."""
