"""The two kinds of failure the pipeline distinguishes.

A `DocumentError` is about the document itself (corrupt, encrypted, empty, unsupported):
retrying cannot help, so the document ends `failed` with the message shown to a person.
A `TransientError` is about the world (database or broker away, out of memory): the
worker retries it with backoff.
"""


class DocumentError(Exception):
    """Bad input a person can act on; the message says what happened and what to do."""


class TransientError(Exception):
    """A temporary failure outside the document; worth retrying."""
