#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed set of worker threads that run parallel regions for the layers.
///
/// Why not Dispatch: training issues a few hundred short parallel regions per batch, and the
/// kernels need a *stable share index* to pick their gradient buffer, with a *static* split of
/// the work so that float reductions happen in the same order every run (same seed ⇒
/// bit-identical weights). The calling thread takes part as thread 0.
///
/// `parallelFor` splits the work into `shareCount` fixed shares (4 per thread) that threads
/// *claim* one by one: the split and the reduction order depend only on the count and
/// `shareCount`, not on which thread ran a share, so results stay deterministic, while a thread
/// that the OS deschedules (the machine is shared) no longer holds the others up: its shares
/// are taken by whoever is running, and a worker that wakes after all shares are claimed skips
/// the region instead of being waited for.
/// There is no global pool: create one and pass it to the layers.
public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int
    /// Shares per `parallelFor` (1 with one thread, else 4 · threadCount).
    public let shareCount: Int
    /// One scratch arena per share (a share runs on one thread at a time), reused by every
    /// kernel of that share; `workspaces[0]` is also the caller's arena outside regions.
    public let workspaces: [Workspace]
    private let shared: Shared
    private var workers: [pthread_t] = []

    /// - Parameter threads: total threads including the caller (≥ 1). Default 2.
    public init(threads: Int = 2) {
        threadCount = max(1, threads)
        shareCount = threadCount == 1 ? 1 : 4 * threadCount
        workspaces = (0..<shareCount).map { _ in Workspace() }
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
        /// Workers inside the current job's body.
        var running = 0
        /// Workers that took the current job (every worker must, for `run`).
        var joined = 0
        /// Late workers may still join the current job.
        var open = false
        var stopping = false
        var job: ((Int) -> Void)?
        /// Next unclaimed share and share count of a `runShares` job.
        var nextShare = 0
        var shareTotal = 0

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
                while (generation == seen || !open) && !stopping { pthread_cond_wait(wake, mutex) }
                if stopping { pthread_mutex_unlock(mutex); return }
                seen = generation
                joined += 1; running += 1
                var body = job
                pthread_mutex_unlock(mutex)
                body!(index)
                body = nil   // drop our reference before signalling: the job must not escape
                _ = body
                pthread_mutex_lock(mutex)
                running -= 1
                pthread_cond_signal(done)
                pthread_mutex_unlock(mutex)
            }
        }

        /// Publishes `body`, runs it on the caller, then waits: for every worker to have run it
        /// (`all`), or only for the workers already inside it (late ones skip the job).
        func publish(_ body: @escaping (Int) -> Void, waitForAll workers: Int?) {
            pthread_mutex_lock(mutex)
            job = body; joined = 0; running = 0; open = true
            generation &+= 1
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
            body(0)
            pthread_mutex_lock(mutex)
            if let w = workers { while joined < w { pthread_cond_wait(done, mutex) } }
            open = false
            while running > 0 { pthread_cond_wait(done, mutex) }
            job = nil
            pthread_mutex_unlock(mutex)
        }

        func run(_ body: (Int) -> Void, threads: Int) {
            withoutActuallyEscaping(body) { publish($0, waitForAll: threads - 1) }
        }

        /// Runs `body(share)` for every share in `0..<shares`, each exactly once, on whichever
        /// threads claim them first.
        func runShares(_ shares: Int, _ body: (Int) -> Void) {
            withoutActuallyEscaping(body) { escaping in
                nextShare = 0; shareTotal = shares   // no worker is running: safe without the lock
                publish({ [unowned self] _ in
                    while true {
                        pthread_mutex_lock(self.mutex)
                        let s = self.nextShare
                        self.nextShare += 1
                        pthread_mutex_unlock(self.mutex)
                        if s >= self.shareTotal { return }
                        escaping(s)
                    }
                }, waitForAll: nil)
            }
        }
    }

    /// Runs `body(thread)` once on every thread (`thread` in `0..<threadCount`) and returns when
    /// all have finished. Not reentrant: do not call `run` from inside `body`.
    public func run(_ body: (Int) -> Void) {
        if threadCount == 1 { body(0); return }
        shared.run(body, threads: threadCount)
    }

    /// Calls `body(range, share)` once for every non-empty share of `0..<count` (share i is
    /// `shareRange(i, of: count)`), shares claimed dynamically by the threads. Use `share` to
    /// index per-share reduction buffers and `workspaces[share]`: no two threads ever run the
    /// same share, and summing per-share results in share order is deterministic.
    public func parallelFor(_ count: Int, _ body: (Range<Int>, Int) -> Void) {
        let t = shareCount
        if threadCount == 1 || count <= 1 { if count > 0 { body(0..<count, 0) }; return }
        shared.runShares(t) { share in
            let r = shareRange(share, of: count)
            if !r.isEmpty { body(r, share) }
        }
    }

    /// The part of `0..<count` that `parallelFor` hands to `share`: `[s·count/S, (s+1)·count/S)`
    /// (all of it for share 0 when the loop runs inline).
    public func shareRange(_ share: Int, of count: Int) -> Range<Int> {
        if threadCount == 1 || count <= 1 { return share == 0 ? 0..<count : 0..<0 }
        return (share * count / shareCount)..<((share + 1) * count / shareCount)
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
