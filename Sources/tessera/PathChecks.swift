import Tessera
#if canImport(Glibc)
import Glibc
#endif

/// The files of one command must be distinct: no output may be an input, and no two outputs may
/// be one file. Files are compared, not spellings: an existing file by (device, inode), so a
/// symbolic or hard link to an input is caught; a file still to be written by the real path of
/// its directory plus its name, so `out/../out/x.npy`, `./out/x.npy` and `out//x.npy` are one.
/// Throws `invalidArgument` naming both spellings.
enum PathChecks {
    static func distinct(inputs: [String], outputs: [String]) throws(TesseraError) {
        var seen: [String: (path: String, isInput: Bool)] = [:]
        for path in inputs where seen[identity(path)] == nil { seen[identity(path)] = (path, true) }
        for path in outputs {
            let id = identity(path)
            if let earlier = seen[id] {
                if earlier.isInput {
                    let alias = earlier.path == path ? "" : " (as \(earlier.path))"
                    throw .invalidArgument("\(path) is used both as an input\(alias) and an output; choose another output path")
                }
                throw .invalidArgument("\(earlier.path) and \(path) are the same file; give each output its own path")
            }
            seen[id] = (path, false)
        }
    }

    /// The file's identity: "inode d:i" when it exists (links followed), else "path P/name" with
    /// P the real path of its directory (or the spelling, normalized, when that does not exist).
    static func identity(_ path: String) -> String {
        var info = stat()
        if stat(path, &info) == 0 { return "inode \(info.st_dev):\(info.st_ino)" }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        if let resolved = realpath(directory.isEmpty ? "/" : directory, nil) {
            defer { free(resolved) }
            return "path \(String(cString: resolved))/\(name)"
        }
        return "path \(path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }.joined(separator: "/"))"
    }
}
