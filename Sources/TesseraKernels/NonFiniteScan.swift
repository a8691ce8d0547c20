import CVectorMath

/// Whether a strided block of doubles holds NaN or ±Inf: `runs` runs of `run` contiguous values,
/// run k at base + k·stride (a column-major block: one run per column; a row-major one: one per
/// row). Reads each value once and stops at the first run that holds one; cost runs·run
/// comparisons. Never throws.
public enum NonFiniteScan {
    public static func any(_ base: UnsafePointer<Double>, run: Int, runs: Int, stride: Int) -> Bool {
        guard run > 0, runs > 0 else { return false }
        return tessera_any_nonfinite_f64(base, run, runs, stride) != 0
    }
}
