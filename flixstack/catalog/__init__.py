"""The catalog: titles, localization, licensing, lifecycle and search."""
