"""Data in and out: one module per import format (the enterprise registry, accounts,
units, routing rules, the calendar) on the shared reading of CSV files and Excel workbooks
(``reading``, ``workbook``), the enterprise app's intake, and the exports (``export``:
.xlsx, CSV, JSON). Calls the domain's operations (every row as the importing user); never
textual, the console or the command line.
"""
