"""The PDF side: pages, text lines, ruled lines and cell grids. No budget knowledge here."""
