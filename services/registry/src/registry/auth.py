"""Re-exports for the bulk importer's router (`registry.imports.router`): the scopes are in `registry.access`; the
importer's owner switches to it directly."""

from registry.access import DivisionWriter, Reader, Writer

__all__ = ["DivisionWriter", "Reader", "Writer"]
