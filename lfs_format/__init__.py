"""NodeMCU Lua 5.1 binary formats: the Proto model, `.lc` chunks, LFS images,
their compression, and a model of the device's loader and flash."""

import os

if os.environ.get("LUACROSS_PURE") == "1":  # run the .py sources, not the compiled modules
    from lfs_format.native import force_pure

    force_pure()
