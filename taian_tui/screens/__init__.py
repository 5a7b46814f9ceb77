"""The console's screens: the appeal inbox, the escalation board, the red-card leads, the
action forms, sign-in and help. Imported lazily by ``taian_tui.app``."""
