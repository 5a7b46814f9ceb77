"""The console's screens: the appeal inbox, the escalation board, the red-card leads, the
project board, the leader instructions, the policy editor, the dashboard, the action forms,
sign-in and help. Imported lazily by ``taian_tui.console.app``."""
