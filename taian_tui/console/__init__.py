"""The Textual console: the app, its widgets, its strings (both languages side by side),
its messages, its workers and its table of modes. The screens are in ``taian_tui.screens``.
Imports the read side, data in/out, the domain and the store; never the command line.
"""
