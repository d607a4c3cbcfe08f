"""Fashion-MNIST study report generator."""

__version__ = "0.1.0"
