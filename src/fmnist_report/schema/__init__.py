"""metrics.json's JSON Schema, shipped as a file: the public contract of a build's numbers.

``metrics.schema.json`` is ``fmnist_report.study.summary_types.json_schema()`` written out;
``fmnist-report schema`` prints the same text, and a test keeps the two equal.
"""
