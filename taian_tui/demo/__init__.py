"""The demo city: its name pools, its data files (``data/``: the 58 units and the default
routing rules, shipped as package data) and the builder that plays six months of a city
through the domain's operations. Never textual, the console or the command line.
"""
