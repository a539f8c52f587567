//! Where the bytes of files live, and how an upload gets there.
//!
//! [`BlobStore`] is the one interface to the bytes: put, get (streamed), delete, by the
//! attachment's id. [`LocalDisk`] keeps them under `<data_dir>/files/`, each file named by its
//! id (128 random bits), never by the name its uploader gave. An S3-compatible store plugs in
//! here by implementing the same three calls (the `object_store` crate covers S3, GCS and
//! Azure); nothing else in the server knows where bytes live.
//!
//! An upload is streamed to a staging file on local disk (`<data_dir>/files/.incoming/`)
//! while it is counted against `max_upload_bytes`, hashed, and its first bytes kept for
//! [`frontdesk_core::files::sniff`]. Only a file that passes is handed to the blob store; a
//! refused one is deleted as soon as it is refused, so memory holds at most one chunk of any
//! upload.

use crate::AppState;
use crate::error::ApiError;
use axum::body::{Body, Bytes};
use frontdesk_core::files::{self, FileError, FileKind, SNIFF_BYTES};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a [`BlobStore`] call returns.
pub type BlobFuture<'a, T> = Pin<Box<dyn Future<Output = io::Result<T>> + Send + 'a>>;

/// A file's bytes, as read from a [`BlobStore`].
pub struct Blob {
    pub len: u64,
    pub body: Body,
}

/// Where files' bytes live, by key (an attachment id: 32 hex digits).
pub trait BlobStore: Send + Sync + 'static {
    /// Takes over a finished, checked upload at `staged` (a file on the local disk) and keeps
    /// it under `key`. Durable when it returns.
    fn put<'a>(&'a self, key: &'a str, staged: &'a Path) -> BlobFuture<'a, ()>;
    /// The bytes under `key`, streamed; `None` when there are none.
    fn get<'a>(&'a self, key: &'a str) -> BlobFuture<'a, Option<Blob>>;
    /// Forgets the bytes under `key` (nothing happens if there are none).
    fn delete<'a>(&'a self, key: &'a str) -> BlobFuture<'a, ()>;
}

/// Files on the local disk: `<root>/<first two hex digits>/<key>`.
pub struct LocalDisk {
    root: PathBuf,
}

impl LocalDisk {
    pub fn new(root: PathBuf) -> io::Result<Self> {
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        // Keys are attachment ids; anything else could name a path outside the root.
        if key.len() != 32 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a file key",
            ));
        }
        Ok(self.root.join(&key[..2]).join(key))
    }
}

impl BlobStore for LocalDisk {
    fn put<'a>(&'a self, key: &'a str, staged: &'a Path) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            let path = self.path(key)?;
            let dir = path.parent().unwrap_or(&self.root);
            tokio::fs::create_dir_all(dir).await?;
            tokio::fs::rename(staged, &path).await?;
            // The rename is durable once the directory is.
            tokio::fs::File::open(dir).await?.sync_all().await
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BlobFuture<'a, Option<Blob>> {
        Box::pin(async move {
            let file = match tokio::fs::File::open(self.path(key)?).await {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            };
            let len = file.metadata().await?.len();
            Ok(Some(Blob {
                len,
                body: stream_file(file),
            }))
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            match tokio::fs::remove_file(self.path(key)?).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        })
    }
}

/// A file's bytes as a response body, 64 KiB at a time.
fn stream_file(file: tokio::fs::File) -> Body {
    let chunks = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Body::from_stream(chunks)
}

/// The server's files: where their bytes live, and where uploads wait while they are checked.
#[derive(Clone)]
pub struct Files {
    pub blobs: Arc<dyn BlobStore>,
    incoming: PathBuf,
}

/// An upload that passed every check, waiting in the staging directory. Dropped without being
/// stored, its file is deleted.
pub struct Staged {
    pub path: PathBuf,
    pub kind: FileKind,
    /// The safe name (`files::safe_name`), its extension agreeing with `kind`.
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

impl Drop for Staged {
    fn drop(&mut self) {
        // Gone already when the blob store took it over.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Deletes a staging file unless disarmed: a refused or broken upload leaves nothing.
struct Partial(Option<PathBuf>);

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Files {
    /// Files on the local disk under `<data_dir>/files/`.
    pub fn local(data_dir: &Path) -> io::Result<Self> {
        let root = data_dir.join("files");
        let incoming = root.join(".incoming");
        std::fs::create_dir_all(&incoming)?;
        Ok(Self {
            blobs: Arc::new(LocalDisk::new(root)?),
            incoming,
        })
    }

    /// Receives an upload's body: refuses it as soon as it passes `max` bytes (or at once
    /// when its `Content-Length` says it will), then tells its kind from its first bytes. The
    /// browser's content type and the name's extension are never believed.
    pub async fn receive(
        &self,
        declared_len: Option<u64>,
        body: Body,
        raw_name: &str,
        max: u64,
    ) -> Result<Staged, ApiError> {
        let too_large = || file_error(FileError::TooLarge { max });
        if declared_len.is_some_and(|n| n > max) {
            return Err(too_large());
        }
        let path = self.incoming.join(crate::tokens::random_token());
        let mut partial = Partial(Some(path.clone()));
        let mut out = tokio::fs::File::create(&path)
            .await
            .map_err(ApiError::internal)?;
        let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
        let mut hash = Sha256::new();
        let mut size: u64 = 0;
        let mut chunks = body.into_data_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::new(
                    frontdesk_core::ErrorCode::InvalidFrame,
                    format!("the upload broke off before its end: {e}"),
                )
            })?;
            size += chunk.len() as u64;
            if size > max {
                return Err(too_large());
            }
            if head.len() < SNIFF_BYTES {
                let take = (SNIFF_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            hash.update(&chunk);
            out.write_all(&chunk).await.map_err(ApiError::internal)?;
        }
        files::check_size(size, max).map_err(file_error)?;
        let kind = files::sniff(&head, raw_name).map_err(file_error)?;
        out.sync_all().await.map_err(ApiError::internal)?;
        drop(out);
        partial.0 = None;
        Ok(Staged {
            path,
            kind,
            name: files::safe_name(raw_name, kind),
            size,
            sha256: hex::encode(hash.finalize()),
        })
    }

    /// Every ten minutes: forgets files uploaded a day ago and never sent (their rows, then
    /// their bytes), and staging files an hour old (left by a crash mid-upload).
    pub fn spawn_sweeper(&self, s: AppState) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut stop = s.shutdown.clone();
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.wait_for(|v| *v) => break,
                }
                if let Err(e) = me.sweep(&s).await {
                    tracing::warn!(error = %e, "cannot sweep unsent files");
                }
            }
        });
    }

    async fn sweep(&self, s: &AppState) -> anyhow::Result<()> {
        let now = frontdesk_store::now_ms();
        for id in s
            .store
            .unsent_attachments_before(now - 86_400_000, 500)
            .await?
        {
            if s.store.delete_unsent_attachment(&id).await? {
                self.blobs.delete(id.as_str()).await?;
            }
        }
        let mut dir = tokio::fs::read_dir(&self.incoming).await?;
        while let Some(entry) = dir.next_entry().await? {
            let old = entry
                .metadata()
                .await?
                .modified()?
                .elapsed()
                .is_ok_and(|age| age > Duration::from_secs(3600));
            if old {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
        Ok(())
    }
}

/// A refused file as an API error (`file_too_large` 413, `file_type_not_allowed` 415).
pub fn file_error(e: FileError) -> ApiError {
    ApiError::new(e.code(), e.to_string())
}
