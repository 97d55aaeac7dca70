//! `--pin-cpus`: the providers' threads on CPU 0, the clients' on CPU 1, so the two sides do
//! not compete for one core. A thread's affinity is inherited by the threads it starts
//! (SQLite connection threads included), so each side pins the thread that opens its pools.

/// The CPU of the providers.
pub(crate) const SERVER_CPU: usize = 0;
/// The CPU of the clients (devices, load).
pub(crate) const CLIENT_CPU: usize = 1;

/// Pins the calling thread to `cpu`.
#[cfg(target_os = "linux")]
pub(crate) fn pin_current_thread(cpu: usize) -> anyhow::Result<()> {
    use rustix::thread::{CpuSet, sched_setaffinity};
    if cpu >= CpuSet::MAX_CPU {
        anyhow::bail!("CPU {cpu} is beyond what this build can address");
    }
    let mut set = CpuSet::new();
    set.set(cpu);
    sched_setaffinity(None, &set)
        .map_err(|e| anyhow::anyhow!("pinning a thread to CPU {cpu} failed: {e}"))
}

/// Pinning is Linux only.
#[cfg(not(target_os = "linux"))]
pub(crate) fn pin_current_thread(_cpu: usize) -> anyhow::Result<()> {
    anyhow::bail!("--pin-cpus works on Linux only (sched_setaffinity); run without it")
}

/// The calling thread's affinity before a pinned run, put back when dropped.
pub(crate) struct Restore {
    #[cfg(target_os = "linux")]
    saved: Option<rustix::thread::CpuSet>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(set) = &self.saved {
            let _ = rustix::thread::sched_setaffinity(None, set);
        }
    }
}

/// Checks that pinning can work here (Linux, at least two CPUs) and pins the calling thread
/// to [`CLIENT_CPU`] until the returned guard is dropped.
pub(crate) fn check() -> anyhow::Result<Restore> {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    if cpus < 2 {
        anyhow::bail!("--pin-cpus needs two CPUs (servers on CPU 0, load on CPU 1); {cpus} here");
    }
    let restore = Restore {
        #[cfg(target_os = "linux")]
        saved: rustix::thread::sched_getaffinity(None).ok(),
    };
    pin_current_thread(CLIENT_CPU)?;
    Ok(restore)
}
