"""The Renode backend: platform overlay, monitor script, optional LIS3DSH model, and a driver for Renode's Robot server.

Nothing here has been run against a real Renode on this project's machines (Renode is not installable from the
registries it reaches); the generated files are golden-file tested and the driver is tested against a fake
XML-RPC server. See README "Renode and the other backends".
"""
