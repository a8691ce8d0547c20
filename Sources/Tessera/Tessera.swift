// `import Tessera` is all a user needs: the runtime, the tiles, the kernels, the machine
// profile and the errors, re-exported from their layers (see docs/ARCHITECTURE.md for what each layer
// owns). File I/O (`.npy`, atomic writes) is the separate `TesseraIO` library.
@_exported import TesseraCore
@_exported import TesseraKernels
@_exported import TesseraPlatform
@_exported import TesseraRuntime
@_exported import TesseraTiles
@_exported import TesseraSketch
@_exported import TesseraSolvers
