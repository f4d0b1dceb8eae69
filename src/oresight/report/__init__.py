"""Charts and the self-contained HTML brief: the same figures serve the report file and the web app."""
