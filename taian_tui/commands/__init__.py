"""The command line's parts (``cli.py`` at the repository root is the Typer app that
assembles them): shared options, data in/out commands, figures. The top layer: may import
everything below it, the console included (``taian tui``).
"""
