// `import Tessera` is all a user needs: the runtime, the tiles, the machine profile and the
// errors, re-exported from their layers (see DESIGN.md for what each layer owns).
@_exported import TesseraCore
@_exported import TesseraPlatform
@_exported import TesseraRuntime
@_exported import TesseraTiles
@_exported import TesseraSketch
@_exported import TesseraSolvers
