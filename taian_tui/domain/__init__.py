"""The domain: the rules of DOMAIN.md and the operations that apply them.

Models and labels, the appeal lifecycle table (``rules``), the working-day clock, the
keyed bilingual refusals, every operation (``operations``: role and scope checked, one
transaction, an audit row), the card sweep (``escalation``) and SMS delivery (``notify``).
May import the store; never the read side, data in/out, the demo, the console or the
command line (the ``layers`` contract in pyproject.toml), and never textual.
"""
