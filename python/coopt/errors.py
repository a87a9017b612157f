# Copyright the CoOpt authors. Licensed under the Apache License, Version 2.0.
"""The one exception the readers raise for data that is missing, malformed, modified or mismatched."""


class CooptDataError(ValueError):
    """A file or directory is not what it claims to be; the message names it and says what is wrong."""
