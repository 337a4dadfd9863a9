#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed set of worker threads that run one job at a time on every thread.
///
/// Why not Dispatch: training issues a few hundred short parallel regions per batch, and the
/// kernels need a *stable thread index* to pick their per-thread gradient buffer, with a
/// *static* split of the work so that float reductions happen in the same order every run
/// (same seed ⇒ bit-identical weights). The calling thread takes part as thread 0.
/// There is no global pool: create one and pass it to the layers.
public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int
    /// One scratch arena per thread, reused by every kernel that runs on that thread.
    public let workspaces: [Workspace]
    private let shared: Shared
    private var workers: [pthread_t] = []

    /// - Parameter threads: total threads including the caller (≥ 1). Default 2.
    public init(threads: Int = 2) {
        threadCount = max(1, threads)
        workspaces = (0..<threadCount).map { _ in Workspace() }
        shared = Shared()
        for t in 1..<threadCount {
            // The worker owns a strong reference to the shared state only, never to the pool,
            // so dropping the pool runs deinit, which stops and joins the workers.
            let ctx = Unmanaged.passRetained(WorkerContext(shared: shared, index: t)).toOpaque()
            #if canImport(Glibc)
            var tid = pthread_t()
            pthread_create(&tid, nil, { raw in
                let ctx = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                ctx.shared.workerLoop(ctx.index)
                return nil
            }, ctx)
            workers.append(tid)
            #else
            var tid: pthread_t?
            pthread_create(&tid, nil, { raw in
                let ctx = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
                ctx.shared.workerLoop(ctx.index)
                return nil
            }, ctx)
            workers.append(tid!)
            #endif
        }
    }

    deinit {
        shared.stop()
        for t in workers { pthread_join(t, nil) }
    }

    private final class WorkerContext {
        let shared: Shared
        let index: Int
        init(shared: Shared, index: Int) { self.shared = shared; self.index = index }
    }

    /// Mutex/condition state shared by the caller and the workers.
    private final class Shared: @unchecked Sendable {
        let mutex: UnsafeMutablePointer<pthread_mutex_t>
        let wake: UnsafeMutablePointer<pthread_cond_t>
        let done: UnsafeMutablePointer<pthread_cond_t>
        var generation = 0
        var pending = 0
        var stopping = false
        var job: ((Int) -> Void)?

        init() {
            mutex = .allocate(capacity: 1); pthread_mutex_init(mutex, nil)
            wake = .allocate(capacity: 1); pthread_cond_init(wake, nil)
            done = .allocate(capacity: 1); pthread_cond_init(done, nil)
        }
        deinit {
            pthread_mutex_destroy(mutex); pthread_cond_destroy(wake); pthread_cond_destroy(done)
            mutex.deallocate(); wake.deallocate(); done.deallocate()
        }

        func stop() {
            pthread_mutex_lock(mutex)
            stopping = true
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
        }

        func workerLoop(_ index: Int) {
            var seen = 0
            while true {
                pthread_mutex_lock(mutex)
                while generation == seen && !stopping { pthread_cond_wait(wake, mutex) }
                if stopping { pthread_mutex_unlock(mutex); return }
                seen = generation
                var body = job
                pthread_mutex_unlock(mutex)
                body!(index)
                body = nil   // drop our reference before signalling: `run` checks the job did not escape
                _ = body
                pthread_mutex_lock(mutex)
                pending -= 1
                if pending == 0 { pthread_cond_signal(done) }
                pthread_mutex_unlock(mutex)
            }
        }

        func run(_ body: (Int) -> Void, threads: Int) {
            withoutActuallyEscaping(body) { escaping in
                pthread_mutex_lock(mutex)
                job = escaping
                pending = threads - 1
                generation &+= 1
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(mutex)
                escaping(0)
                pthread_mutex_lock(mutex)
                while pending > 0 { pthread_cond_wait(done, mutex) }
                job = nil
                pthread_mutex_unlock(mutex)
            }
        }
    }

    /// Runs `body(thread)` once on every thread (`thread` in `0..<threadCount`) and returns when
    /// all have finished. Not reentrant: do not call `run` from inside `body`.
    public func run(_ body: (Int) -> Void) {
        if threadCount == 1 { body(0); return }
        shared.run(body, threads: threadCount)
    }

    /// Calls `body(range, thread)` with a contiguous, static share of `0..<count` per thread
    /// (thread t gets `[t·count/T, (t+1)·count/T)`); empty shares are skipped. The split depends
    /// only on `count` and `threadCount`, which keeps per-thread reductions deterministic.
    public func parallelFor(_ count: Int, _ body: (Range<Int>, Int) -> Void) {
        let t = threadCount
        if t == 1 || count <= 1 { if count > 0 { body(0..<count, 0) }; return }
        run { thread in
            let lo = thread * count / t, hi = (thread + 1) * count / t
            if lo < hi { body(lo..<hi, thread) }
        }
    }
}

/// Growable, 64-byte aligned scratch buffers of one thread, addressed by slot number so that
/// kernels nested inside one another (im2col buffer, GEMM packing, gradient chunk) do not
/// clobber each other. Slots: see `Workspace.Slot`.
public final class Workspace: @unchecked Sendable {
    public enum Slot: Int, CaseIterable { case pack = 0, columns, chunk, chunk2, reduce, reduce2 }
    private var buffers: [UnsafeMutablePointer<Float>?] = Array(repeating: nil, count: Slot.allCases.count)
    private var sizes: [Int] = Array(repeating: 0, count: Slot.allCases.count)

    public init() {}
    deinit { for b in buffers { b.map { UnsafeMutableRawPointer($0).deallocate() } } }

    /// At least `count` floats for `slot`; contents are unspecified (not zeroed).
    public func floats(_ slot: Slot, _ count: Int) -> UnsafeMutablePointer<Float> {
        let i = slot.rawValue
        if sizes[i] < count {
            buffers[i].map { UnsafeMutableRawPointer($0).deallocate() }
            let n = max(count, 1024)
            buffers[i] = UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64)
                .bindMemory(to: Float.self, capacity: n)
            sizes[i] = n
        }
        return buffers[i]!
    }
}
