"""User-facing errors: each carries one line that names the problem and the fix."""


class UserError(Exception):
    """An error caused by input the user controls; the CLI prints it without a traceback."""


class DataError(UserError):
    """A Fashion-MNIST file is missing, corrupt or not what it claims to be."""


class ConfigError(UserError):
    """A configuration value is invalid."""


class StoreError(UserError):
    """The result store cannot be read or written."""


class ModelError(UserError):
    """A model artifact is missing, tampered with or unsafe to load."""


class InputError(UserError):
    """An inference input cannot be decoded or has the wrong shape."""
