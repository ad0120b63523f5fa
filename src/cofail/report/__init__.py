"""Rendering: terminal tables, JSON/CSV/Markdown output, figures and the HTML report."""
