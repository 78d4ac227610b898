"""Repository tooling: scripts for maintainers that are not part of the installed ``course`` package."""
