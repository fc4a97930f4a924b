"""The flixstack CLI: emulator, bootstrap, dev server, edge."""
