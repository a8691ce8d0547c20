import TesseraCore

/// The temporary files `AtomicFile` has created and not yet renamed into place or removed.
///
/// A program that may end abruptly (the CLI's stop-signal watchdog calls `_exit`) reads
/// `registered` and unlinks each path first, so that an interrupted run leaves no
/// `*.tmp-XXXXXX` file behind. Thread-safe (one lock); cost O(log k) per call for k files.
/// Throws nothing.
public enum TemporaryFiles {
    private static let paths = Locked<Set<String>>([])

    /// Registers a temporary file to be removed if the process has to end before it is renamed.
    public static func track(_ path: String) { paths.withLock { _ = $0.insert(path) } }

    /// Forgets a temporary file (renamed into place or already removed).
    public static func untrack(_ path: String) { paths.withLock { _ = $0.remove(path) } }

    /// The temporaries registered now.
    public static var registered: Set<String> { paths.withLock { $0 } }
}
