"""The read side: lists, boards, details, figures and the HTML report, each with the
viewer's scope applied. Reads only (no writes); imports the domain and the store, never
textual, the console or the command line.
"""
