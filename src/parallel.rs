//! Work on many items at a time, for work that waits on other programs and
//! the registry rather than on the CPU (so more workers than cores help):
//! the packs of a push, the repositories of a listing.
//!
//! Written here rather than taken from a thread-pool crate because it is a
//! few lines over `std::thread::scope`, it must stop handing out work once a
//! signal arrived, and its workers are bounded by the user's `--jobs`, not
//! by the number of cores.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::signals;

/// Runs `work` on every item, at most `jobs` at a time, in item order for a
/// single job. Once a signal is pending no further item is started: those
/// items get `None`.
pub fn for_each<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    work: impl Fn(usize, &T) -> R + Sync,
) -> Vec<Option<R>> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let worker = || {
        while signals::pending().is_none() {
            let index = next.fetch_add(1, Ordering::SeqCst);
            let Some(item) = items.get(index) else { break };
            let result = work(index, item);
            *results[index].lock().expect("result slot") = Some(result);
        }
    };
    let workers = jobs.clamp(1, items.len().max(1));
    if workers == 1 {
        worker();
    } else {
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(worker);
            }
        });
    }
    results
        .into_iter()
        .map(|slot| slot.into_inner().unwrap_or(None))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn every_item_gets_its_result_in_order() {
        let items: Vec<u32> = (0..20).collect();
        let results = for_each(&items, 4, |index, item| (index, item * 2));
        let expected: Vec<Option<(usize, u32)>> =
            (0..20).map(|i| Some((i as usize, i * 2))).collect();
        assert_eq!(results, expected);
        assert!(for_each(&Vec::<u32>::new(), 4, |_, i| *i).is_empty());
    }

    #[test]
    fn jobs_run_side_by_side() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let items = [(); 8];
        for_each(&items, 4, |_, ()| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(50));
            running.fetch_sub(1, Ordering::SeqCst);
        });
        let most = most.load(Ordering::SeqCst);
        assert!((2..=4).contains(&most), "{most} at once");
        let one = AtomicUsize::new(0);
        for_each(&items, 1, |_, ()| {
            assert_eq!(one.fetch_add(1, Ordering::SeqCst), 0);
            one.fetch_sub(1, Ordering::SeqCst);
        });
    }
}
