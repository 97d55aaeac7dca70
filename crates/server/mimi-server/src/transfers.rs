//! Blob transfers in progress, bounded: at most `limits.blob_downloads_at_once` downloads and
//! `limits.blob_uploads_at_once` uploads at once; more get 429 with `Retry-After`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ServerError;

/// When a refused transfer may try again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The permits for blob transfers in progress.
#[derive(Debug)]
pub(crate) struct Transfers {
    downloads: Arc<Semaphore>,
    uploads: Arc<Semaphore>,
}

impl Transfers {
    /// `downloads` and `uploads` at once at most.
    pub(crate) fn new(downloads: u32, uploads: u32) -> Self {
        let permits = |n: u32| Arc::new(Semaphore::new(usize::try_from(n).unwrap_or(1)));
        Self {
            downloads: permits(downloads),
            uploads: permits(uploads),
        }
    }
}

/// A download permit, or the 429 that says the limit is reached.
pub(crate) fn download_permit(transfers: &Transfers) -> Result<OwnedSemaphorePermit, ServerError> {
    permit(&transfers.downloads, "download")
}

/// An upload permit, or the 429 that says the limit is reached.
pub(crate) fn upload_permit(transfers: &Transfers) -> Result<OwnedSemaphorePermit, ServerError> {
    permit(&transfers.uploads, "upload")
}

/// A permit of `semaphore`, or the 429 that says which limit is reached.
fn permit(semaphore: &Arc<Semaphore>, what: &str) -> Result<OwnedSemaphorePermit, ServerError> {
    semaphore
        .clone()
        .try_acquire_owned()
        .map_err(|_| ServerError::RateLimited {
            what: format!(
                "this provider is serving as many blob {what}s as it allows at once \
                 (limits.blob_{what}s_at_once)"
            ),
            retry_after: RETRY_AFTER,
        })
}
