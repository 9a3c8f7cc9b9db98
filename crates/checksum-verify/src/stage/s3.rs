//! An `s3://bucket/prefix` store through the `object_store` crate, driven from this
//! synchronous tool by a current-thread tokio runtime.
//!
//! An object smaller than one part is held in memory and sent in one `PUT` after its digest
//! matched; a larger one goes up as a multipart upload whose parts are sent as they fill and
//! which is completed only after the check, so that S3 never shows it before. An interrupted
//! multipart upload is invisible; its parts stay in the bucket until the bucket's lifecycle
//! rule or the operator aborts it (`garage bucket cleanup-incomplete-uploads`, or an
//! `AbortIncompleteMultipartUpload` rule).

use super::store::{Action, Lookup, ObjectSpec, Store, StoreError, MAX_DOCUMENT};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, ClientOptions, GetOptions, MultipartUpload, ObjectStore, ObjectStoreExt,
    PutMultipartOptions, PutOptions, PutPayload, RetryConfig,
};
use offline_formats::digest::{ct_eq, parse_hex32};
use std::time::Duration;

/// Size of every part of a multipart upload but the last, and the size from which an object
/// goes up in parts (S3 wants at least 5 MiB). Also the most memory an upload holds.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// User metadata carrying the object's SHA-256 (`x-amz-meta-sha256`), which a rerun reads to
/// skip objects already stored.
const SHA256_METADATA: &str = "sha256";

/// How to reach an S3 store.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// The bucket.
    pub bucket: String,
    /// Key prefix inside the bucket, without leading or trailing `/` (may be empty).
    pub prefix: String,
    /// `http(s)://host:port` of the S3 API.
    pub endpoint: String,
    /// Whether `http://` may be used.
    pub allow_http: bool,
    /// Region the requests are signed for.
    pub region: String,
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`, when set.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for S3Config {
    // Secrets never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("allow_http", &self.allow_http)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// A store in an S3 bucket.
#[derive(Debug)]
pub struct S3Store {
    runtime: tokio::runtime::Runtime,
    client: AmazonS3,
    bucket: String,
    prefix: String,
    current: Option<Upload>,
}

#[derive(Debug)]
struct Upload {
    key: String,
    /// The object's URL, for messages.
    url: String,
    path: Path,
    buffer: Vec<u8>,
    attributes: Attributes,
    /// Set once the object outgrew one part.
    multipart: Option<Box<dyn MultipartUpload>>,
}

impl S3Store {
    /// Sets up the client; no request is made yet.
    pub fn open(config: &S3Config) -> Result<Self, StoreError> {
        let store = format!("s3://{}/{}", config.bucket, config.prefix);
        let setup = |reason: String| StoreError::Setup {
            store: store.clone(),
            reason,
        };
        // reqwest is built without a default TLS provider (no aws-lc-rs); use ring's. Another
        // part of the process may have installed one already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| setup(format!("cannot start the I/O runtime: {e}")))?;
        let client_options = ClientOptions::new()
            .with_allow_http(config.allow_http)
            .with_connect_timeout(Duration::from_secs(10))
            .with_timeout(Duration::from_secs(300));
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(60),
            ..RetryConfig::default()
        };
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_endpoint(&config.endpoint)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(&config.secret_access_key)
            .with_virtual_hosted_style_request(false)
            .with_allow_http(config.allow_http)
            .with_client_options(client_options)
            .with_retry(retry);
        if let Some(token) = &config.session_token {
            builder = builder.with_token(token);
        }
        let client = {
            // Building the HTTP client needs the runtime's context.
            let _guard = runtime.enter();
            builder.build().map_err(|e| setup(e.to_string()))?
        };
        Ok(Self {
            runtime,
            client,
            bucket: config.bucket.clone(),
            prefix: config.prefix.clone(),
            current: None,
        })
    }

    fn full_key(&self, key: &str) -> String {
        match (self.prefix.is_empty(), key.is_empty()) {
            (true, _) => key.to_owned(),
            (false, true) => self.prefix.clone(),
            (false, false) => format!("{}/{key}", self.prefix),
        }
    }

    fn path(&self, key: &str) -> Result<Path, StoreError> {
        Path::parse(self.full_key(key)).map_err(|e| StoreError::Remote {
            object: self.url(key),
            action: Action::Write,
            source: Box::new(e.into()),
        })
    }

    fn remote(&self, key: &str, action: Action) -> impl Fn(object_store::Error) -> StoreError {
        let object = self.url(key);
        move |source| StoreError::Remote {
            object: object.clone(),
            action,
            source: Box::new(source),
        }
    }

    /// Sends the full parts of the current upload's buffer, starting the multipart upload on
    /// the first one.
    fn flush_parts(&mut self) -> Result<(), StoreError> {
        let Some(upload) = self.current.as_mut() else {
            return Ok(());
        };
        if upload.buffer.len() < PART_SIZE {
            return Ok(());
        }
        let error = |source| StoreError::Remote {
            object: upload.url.clone(),
            action: Action::Write,
            source: Box::new(source),
        };
        if upload.multipart.is_none() {
            let options = PutMultipartOptions {
                attributes: upload.attributes.clone(),
                ..PutMultipartOptions::default()
            };
            let multipart = self
                .runtime
                .block_on(self.client.put_multipart_opts(&upload.path, options))
                .map_err(error)?;
            upload.multipart = Some(multipart);
        }
        while upload.buffer.len() >= PART_SIZE {
            let rest = upload.buffer.split_off(PART_SIZE);
            let part = std::mem::replace(&mut upload.buffer, rest);
            if let Some(multipart) = upload.multipart.as_mut() {
                let sent = multipart.put_part(PutPayload::from(part));
                self.runtime.block_on(sent).map_err(error)?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, mut upload: Upload) -> Result<(), StoreError> {
        let error = self.remote(&upload.key, Action::Commit);
        let buffer = std::mem::take(&mut upload.buffer);
        match upload.multipart.as_mut() {
            None => {
                let options = PutOptions {
                    attributes: upload.attributes,
                    ..PutOptions::default()
                };
                self.runtime
                    .block_on(
                        self.client
                            .put_opts(&upload.path, PutPayload::from(buffer), options),
                    )
                    .map_err(&error)?;
            }
            Some(multipart) => {
                if !buffer.is_empty() {
                    let sent = multipart.put_part(PutPayload::from(buffer));
                    if let Err(e) = self.runtime.block_on(sent) {
                        let _ = self.runtime.block_on(multipart.abort());
                        return Err(error(e));
                    }
                }
                if let Err(e) = self.runtime.block_on(multipart.complete()) {
                    let _ = self.runtime.block_on(multipart.abort());
                    return Err(error(e));
                }
            }
        }
        Ok(())
    }
}

impl Store for S3Store {
    fn url(&self, key: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.full_key(key))
    }

    fn lookup(&mut self, key: &str, spec: &ObjectSpec) -> Result<Lookup, StoreError> {
        let path = self.path(key)?;
        let found = self.runtime.block_on(
            self.client
                .get_opts(&path, GetOptions::default().with_head(true)),
        );
        let head = match found {
            Ok(head) => head,
            Err(object_store::Error::NotFound { .. }) => return Ok(Lookup::Absent),
            Err(e) => return Err(self.remote(key, Action::Lookup)(e)),
        };
        let stored = head
            .attributes
            .get(&Attribute::Metadata(SHA256_METADATA.into()))
            .and_then(|value| parse_hex32(value.as_ref()).ok());
        match stored {
            Some(digest) if head.meta.size == spec.size && ct_eq(&digest, &spec.sha256) => {
                Ok(Lookup::Present)
            }
            _ => Ok(Lookup::Different),
        }
    }

    fn begin(&mut self, key: &str, spec: &ObjectSpec) -> Result<(), StoreError> {
        self.abort()?;
        let path = self.path(key)?;
        let mut attributes = Attributes::new();
        attributes.insert(
            Attribute::Metadata(SHA256_METADATA.into()),
            hex::encode(spec.sha256).into(),
        );
        if !spec.media_type.is_empty() {
            attributes.insert(Attribute::ContentType, spec.media_type.clone().into());
        }
        let capacity = usize::try_from(spec.size)
            .unwrap_or(PART_SIZE)
            .min(PART_SIZE);
        self.current = Some(Upload {
            key: key.to_owned(),
            url: self.url(key),
            path,
            buffer: Vec::with_capacity(capacity),
            attributes,
            multipart: None,
        });
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        if self.current.is_none() {
            return Err(StoreError::NoUpload {
                store: self.url(""),
                what: "write",
            });
        }
        for chunk in bytes.chunks(PART_SIZE) {
            if let Some(upload) = self.current.as_mut() {
                upload.buffer.extend_from_slice(chunk);
            }
            if let Err(e) = self.flush_parts() {
                // The store's error is the one to report; the abort is best effort.
                let _ = self.abort();
                return Err(e);
            }
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        let Some(upload) = self.current.take() else {
            return Err(StoreError::NoUpload {
                store: self.url(""),
                what: "commit",
            });
        };
        self.finish(upload)
    }

    fn abort(&mut self) -> Result<(), StoreError> {
        let Some(upload) = self.current.take() else {
            return Ok(());
        };
        if let Some(mut multipart) = upload.multipart {
            self.runtime
                .block_on(multipart.abort())
                .map_err(self.remote(&upload.key, Action::Abort))?;
        }
        Ok(())
    }

    fn delete(&mut self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key)?;
        match self.runtime.block_on(self.client.delete(&path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.remote(key, Action::Delete)(e)),
        }
    }

    fn read_document(&mut self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.path(key)?;
        let error = self.remote(key, Action::Read);
        let result = match self.runtime.block_on(self.client.get(&path)) {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(error(e)),
        };
        if result.meta.size > MAX_DOCUMENT {
            return Err(StoreError::DocumentTooLarge {
                object: self.url(key),
                size: result.meta.size,
                limit: MAX_DOCUMENT,
            });
        }
        let bytes = self.runtime.block_on(result.bytes()).map_err(error)?;
        Ok(Some(bytes.to_vec()))
    }

    fn write_document(&mut self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.path(key)?;
        let mut attributes = Attributes::new();
        attributes.insert(
            Attribute::Metadata(SHA256_METADATA.into()),
            hex::encode(offline_formats::digest::sha256(bytes)).into(),
        );
        attributes.insert(Attribute::ContentType, "application/json".into());
        let options = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.runtime
            .block_on(
                self.client
                    .put_opts(&path, PutPayload::from(bytes.to_vec()), options),
            )
            .map_err(self.remote(key, Action::Commit))?;
        Ok(())
    }
}

impl Drop for S3Store {
    fn drop(&mut self) {
        // An upload abandoned by an error path: abort it rather than leave its parts.
        let _ = self.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(endpoint: &str) -> S3Config {
        S3Config {
            bucket: "bundles".to_owned(),
            prefix: "site-a".to_owned(),
            endpoint: endpoint.to_owned(),
            allow_http: endpoint.starts_with("http://"),
            region: "garage".to_owned(),
            access_key_id: "GK0".to_owned(),
            secret_access_key: "secret".to_owned(),
            session_token: None,
        }
    }

    #[test]
    fn an_https_endpoint_gets_a_tls_client_and_an_unreachable_one_a_named_error() {
        // Port 1 on loopback: nothing listens, and nothing leaves the machine.
        let mut store = S3Store::open(&config("https://127.0.0.1:1")).unwrap();
        assert_eq!(store.url("b/7/x.yaml"), "s3://bundles/site-a/b/7/x.yaml");
        let spec = ObjectSpec {
            size: 1,
            sha256: [0; 32],
            media_type: String::new(),
            executable: false,
        };
        let err = store.lookup("b/7/x.yaml", &spec).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`s3://bundles/site-a/b/7/x.yaml`: cannot look up: "),
            "{err}"
        );
    }

    #[test]
    fn keys_join_the_prefix() {
        let mut c = config("http://127.0.0.1:1");
        c.prefix = String::new();
        let store = S3Store::open(&c).unwrap();
        assert_eq!(store.url("sha256/ab"), "s3://bundles/sha256/ab");
    }
}
