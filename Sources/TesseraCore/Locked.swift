#if canImport(Glibc)
import Glibc
#endif

/// A value guarded by a `pthread_mutex_t`.
///
/// Why not `Synchronization.Mutex`: on Linux it is built on futexes inside the (uninstrumented)
/// standard library, so ThreadSanitizer cannot see its happens-before edges and reports false
/// races; pthread mutexes are intercepted by the sanitizers. The mutex lives in its own
/// allocation (it must not move) and is only touched through `withLock`, which is what makes the
/// `@unchecked Sendable` sound. Give it a value of non-zero size: a zero-sized one (`()`) shares
/// its address with the mutex pointer, and ThreadSanitizer reports false races on it.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline var value: Value

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    @inlinable
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body(&value)
    }

    @usableFromInline func lock() { pthread_mutex_lock(mutex) }
    @usableFromInline func unlock() { pthread_mutex_unlock(mutex) }
}
