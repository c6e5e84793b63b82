"""Printers: contract §4 documents (json/yaml) and rich text. Data in, text out."""
