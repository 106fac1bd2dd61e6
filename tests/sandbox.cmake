# CTest fixtures for the sandbox servers: written with scripts/sandbox.
