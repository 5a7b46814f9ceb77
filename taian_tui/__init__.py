"""泰安市新动能重大项目可视化督导服务平台 — government console (store, domain, console)."""

__version__ = "0.1.0"
