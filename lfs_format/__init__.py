"""NodeMCU Lua 5.1 binary formats: the Proto model, `.lc` chunks, LFS images,
their compression, and a model of the device's loader and flash."""
