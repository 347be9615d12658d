//! One function per clause of the `Storage` contract; [`super`] runs each on every backend as a
//! test of its own, so a failure names the clause and the backend.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use oci_digest::Digest;
use oci_server_core::{
    ByteStream, RepoName, Storage, StorageError, Tag, UploadId,
    range::ByteRange,
    storage::{Durability, Key},
};

fn chunks(parts: &[&'static [u8]]) -> ByteStream<'static> {
    Box::pin(stream::iter(
        parts
            .iter()
            .map(|p| Ok(Bytes::from_static(p)))
            .collect::<Vec<_>>(),
    ))
}

async fn collect(mut stream: ByteStream<'static>) -> Vec<u8> {
    let mut all = Vec::new();
    while let Some(chunk) = stream.next().await {
        all.extend_from_slice(&chunk.unwrap());
    }
    all
}

/// An upload holding `content`, written in one go.
async fn upload_of(storage: &Arc<dyn Storage>, content: &'static [u8]) -> UploadId {
    let id = UploadId::random();
    storage.upload_create(&id).await.unwrap();
    storage
        .upload_write(&id, 0, chunks(&[content]), Durability::Now)
        .await
        .unwrap();
    id
}

/// A blob holding `content`, committed from an upload.
async fn blob_of(storage: &Arc<dyn Storage>, content: &'static [u8]) -> Digest {
    let id = upload_of(storage, content).await;
    let digest = Digest::compute(content);
    storage
        .upload_commit(&id, content.len() as u64, &digest)
        .await
        .unwrap();
    digest
}

fn tag_key(repo: &str, tag: &str) -> Key {
    Key::tag(&RepoName::parse(repo).unwrap(), &Tag::new(tag).unwrap())
}

pub async fn a_write_counts_its_bytes_and_reads_back(storage: &Arc<dyn Storage>) {
    let id = UploadId::random();
    storage.upload_create(&id).await.unwrap();
    let written = storage
        .upload_write(&id, 0, chunks(&[b"hello ", b"wor"]), Durability::Now)
        .await
        .unwrap();
    assert_eq!(written, 9);
    assert_eq!(
        collect(storage.upload_read(&id, 9).await.unwrap()).await,
        b"hello wor"
    );
}

pub async fn a_write_at_an_offset_replaces_what_lay_past_it(storage: &Arc<dyn Storage>) {
    let id = upload_of(storage, b"hello wor").await;
    let written = storage
        .upload_write(&id, 6, chunks(&[b"world"]), Durability::Now)
        .await
        .unwrap();
    assert_eq!(written, 5);
    assert_eq!(
        collect(storage.upload_read(&id, 11).await.unwrap()).await,
        b"hello world"
    );
}

pub async fn a_commit_makes_the_blob_and_ends_the_session(storage: &Arc<dyn Storage>) {
    let id = upload_of(storage, b"hello world").await;
    let digest = Digest::compute(b"hello world");
    assert_eq!(storage.blob_size(&digest).await.unwrap(), None);
    storage.upload_commit(&id, 11, &digest).await.unwrap();
    assert_eq!(storage.blob_size(&digest).await.unwrap(), Some(11));
    assert!(!storage.upload_delete(&id).await.unwrap());
}

pub async fn a_commit_takes_only_the_first_size_bytes(storage: &Arc<dyn Storage>) {
    let id = upload_of(storage, b"hello world and more").await;
    let digest = Digest::compute(b"hello world");
    storage.upload_commit(&id, 11, &digest).await.unwrap();
    let whole = storage.blob_read(&digest, None).await.unwrap().unwrap();
    assert_eq!(collect(whole).await, b"hello world");
}

pub async fn a_range_read_gives_the_inclusive_bytes(storage: &Arc<dyn Storage>) {
    let digest = blob_of(storage, b"hello world").await;
    let range = ByteRange { start: 6, end: 10 };
    let part = storage
        .blob_read(&digest, Some(range))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(collect(part).await, b"world");
}

pub async fn an_absent_blob_has_no_size_content_or_time(storage: &Arc<dyn Storage>) {
    let absent = Digest::compute(b"never stored");
    assert_eq!(storage.blob_size(&absent).await.unwrap(), None);
    assert!(storage.blob_read(&absent, None).await.unwrap().is_none());
    assert_eq!(storage.blob_modified(&absent).await.unwrap(), None);
}

pub async fn a_blob_put_reads_back_whole(storage: &Arc<dyn Storage>) {
    let small = Digest::compute(b"{}");
    storage
        .blob_put(&small, Bytes::from_static(b"{}"))
        .await
        .unwrap();
    assert_eq!(storage.blob_size(&small).await.unwrap(), Some(2));
    assert_eq!(
        collect(storage.blob_read(&small, None).await.unwrap().unwrap()).await,
        b"{}"
    );
}

pub async fn a_failing_source_is_a_source_error(storage: &Arc<dyn Storage>) {
    let id = UploadId::random();
    storage.upload_create(&id).await.unwrap();
    let failing: ByteStream<'static> = Box::pin(stream::iter([
        Ok(Bytes::from_static(b"ok")),
        Err(std::io::Error::other("client went away")),
    ]));
    let err = storage
        .upload_write(&id, 0, failing, Durability::Now)
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Source(_)), "{err:?}");
}

pub async fn a_deleted_upload_takes_no_more_writes(storage: &Arc<dyn Storage>) {
    let id = upload_of(storage, b"some").await;
    assert!(storage.upload_delete(&id).await.unwrap());
    assert!(!storage.upload_delete(&id).await.unwrap());
    let err = storage
        .upload_write(&id, 0, chunks(&[b"late"]), Durability::Now)
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::UploadMissing { .. }), "{err:?}");
}

pub async fn an_upload_has_a_creation_time_and_an_unknown_one_none(storage: &Arc<dyn Storage>) {
    let id = upload_of(storage, b"x").await;
    let created = storage.upload_created(&id).await.unwrap().unwrap();
    assert!(created <= std::time::SystemTime::now());
    assert_eq!(
        storage.upload_created(&UploadId::random()).await.unwrap(),
        None
    );
}

pub async fn meta_put_overwrites_whole(storage: &Arc<dyn Storage>) {
    let v1 = tag_key("a/b", "v1");
    storage
        .meta_put(&v1, Bytes::from_static(b"old"))
        .await
        .unwrap();
    storage
        .meta_put(&v1, Bytes::from_static(b"new"))
        .await
        .unwrap();
    assert_eq!(storage.meta_get(&v1).await.unwrap().unwrap(), "new");
}

pub async fn meta_list_is_sorted(storage: &Arc<dyn Storage>) {
    let repo = RepoName::parse("a/b").unwrap();
    for tag in ["v2", "v10", "v1"] {
        storage
            .meta_put(&tag_key("a/b", tag), Bytes::from(tag))
            .await
            .unwrap();
    }
    assert_eq!(
        storage.meta_list(&Key::tags(&repo)).await.unwrap(),
        ["v1", "v10", "v2"]
    );
    assert_eq!(
        storage.meta_list(&Key::repositories()).await.unwrap(),
        ["a"]
    );
}

pub async fn a_missing_folder_lists_empty(storage: &Arc<dyn Storage>) {
    let nowhere = Key::tags(&RepoName::parse("none").unwrap());
    assert!(storage.meta_list(&nowhere).await.unwrap().is_empty());
}

pub async fn meta_delete_says_whether_there_was_one(storage: &Arc<dyn Storage>) {
    let v1 = tag_key("a/b", "v1");
    storage
        .meta_put(&v1, Bytes::from_static(b"x"))
        .await
        .unwrap();
    assert!(storage.meta_delete(&v1).await.unwrap());
    assert!(!storage.meta_delete(&v1).await.unwrap());
    assert_eq!(storage.meta_get(&v1).await.unwrap(), None);
}

pub async fn meta_modified_is_the_write_time_or_none(storage: &Arc<dyn Storage>) {
    let v2 = tag_key("a/b", "v2");
    storage
        .meta_put(&v2, Bytes::from_static(b"x"))
        .await
        .unwrap();
    let written = storage.meta_modified(&v2).await.unwrap().unwrap();
    assert!(written <= std::time::SystemTime::now());
    assert_eq!(
        storage.meta_modified(&tag_key("a/b", "v1")).await.unwrap(),
        None
    );
}

pub async fn markers_are_read_as_objects_and_deleted(storage: &Arc<dyn Storage>) {
    let claim = Key::claimed_blob(&Digest::compute(b"claimed"));
    storage.marker_put(&claim).await.unwrap();
    assert!(storage.meta_get(&claim).await.unwrap().is_some());
    assert!(storage.marker_delete(&claim).await.unwrap());
    assert!(!storage.marker_delete(&claim).await.unwrap());
    assert_eq!(storage.meta_get(&claim).await.unwrap(), None);
}

pub async fn blob_list_names_every_blob_with_its_size(storage: &Arc<dyn Storage>) {
    let big = blob_of(storage, b"hello world").await;
    let small = Digest::compute(b"{}");
    storage
        .blob_put(&small, Bytes::from_static(b"{}"))
        .await
        .unwrap();
    let mut listed: Vec<(String, u64)> = storage
        .blob_list()
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.digest.to_string(), b.size))
        .collect();
    listed.sort();
    let mut expected = vec![(big.to_string(), 11), (small.to_string(), 2)];
    expected.sort();
    assert_eq!(listed, expected);
}

pub async fn blob_delete_says_whether_there_was_one(storage: &Arc<dyn Storage>) {
    let digest = blob_of(storage, b"doomed").await;
    assert!(storage.blob_modified(&digest).await.unwrap().is_some());
    assert!(storage.blob_delete(&digest).await.unwrap());
    assert!(!storage.blob_delete(&digest).await.unwrap());
    assert_eq!(storage.blob_size(&digest).await.unwrap(), None);
}

pub async fn an_empty_write_writes_nothing_and_drops_nothing(storage: &Arc<dyn Storage>) {
    let id = upload_of(storage, b"hello").await;
    assert_eq!(
        storage
            .upload_write(&id, 5, chunks(&[]), Durability::Now)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        collect(storage.upload_read(&id, 5).await.unwrap()).await,
        b"hello"
    );
}

/// Deferred writes read back at once (where the backend defers anything, it is the page cache
/// every user shares), are made durable by a sync, and commit like any other.
pub async fn deferred_writes_read_back_and_commit_after_a_sync(storage: &Arc<dyn Storage>) {
    let id = UploadId::random();
    storage.upload_create(&id).await.unwrap();
    for (offset, part) in [(0, b"hello "), (6, b"world!")] {
        let part: &'static [u8] = part;
        let written = storage
            .upload_write(&id, offset, chunks(&[part]), Durability::Deferred)
            .await
            .unwrap();
        assert_eq!(written, 6);
    }
    assert_eq!(
        collect(storage.upload_read(&id, 12).await.unwrap()).await,
        b"hello world!"
    );
    storage.upload_sync(&id).await.unwrap();
    let digest = Digest::compute(b"hello world!");
    storage.upload_commit(&id, 12, &digest).await.unwrap();
    assert_eq!(storage.blob_size(&digest).await.unwrap(), Some(12));
}

/// A volatile metadata write is read back whole, replaces the old value, and is removed with
/// its session when it is a session's record.
pub async fn a_volatile_record_reads_back_and_goes_with_its_session(storage: &Arc<dyn Storage>) {
    let id = upload_of(storage, b"ab").await;
    let key = Key::upload_progress(&id);
    for value in ["first", "second"] {
        storage
            .meta_put_volatile(&key, Bytes::from(value))
            .await
            .unwrap();
        assert_eq!(storage.meta_get(&key).await.unwrap().unwrap(), value);
    }
    assert!(storage.meta_modified(&key).await.unwrap().is_some());
    assert!(storage.upload_delete(&id).await.unwrap());
    assert_eq!(storage.meta_get(&key).await.unwrap(), None);
    assert_eq!(
        storage.volatile_epoch(),
        storage.volatile_epoch(),
        "the epoch is stable"
    );
}

pub async fn deleting_a_session_of_several_writes_removes_all_of_it(storage: &Arc<dyn Storage>) {
    let id = upload_of(storage, b"ab").await;
    storage
        .upload_write(&id, 2, chunks(&[b"cd"]), Durability::Now)
        .await
        .unwrap();
    assert!(storage.upload_delete(&id).await.unwrap());
    assert_eq!(storage.upload_created(&id).await.unwrap(), None);
    assert!(!storage.upload_delete(&id).await.unwrap());
}

/// Pages of a folder of objects (tags) walked with `meta_list_after` are the sorted listing cut
/// in pieces, with neighbouring repositories' objects left out.
pub async fn meta_list_after_pages_a_folder(storage: &Arc<dyn Storage>) {
    let mut tags: Vec<String> = (0..23).map(|i| format!("t{i:02}")).collect();
    tags.extend(["A", "_u", "v1.0", "v1-rc"].map(str::to_owned));
    for tag in &tags {
        storage
            .meta_put(&tag_key("paged", tag), Bytes::from("x"))
            .await
            .unwrap();
    }
    for neighbour in ["paged/sub", "paged-x", "page"] {
        storage
            .meta_put(&tag_key(neighbour, "t05a"), Bytes::from("x"))
            .await
            .unwrap();
    }
    tags.sort();
    let folder = Key::tags(&RepoName::parse("paged").unwrap());
    let mut walked = Vec::new();
    let mut last: Option<String> = None;
    loop {
        let page = storage
            .meta_list_after(&folder, last.as_deref(), 5)
            .await
            .unwrap();
        assert!(page.len() <= 5);
        let Some(end) = page.last().cloned() else {
            break;
        };
        walked.extend(page);
        last = Some(end);
    }
    assert_eq!(walked, tags);
    let after = |start: &'static str, limit: usize| {
        let (storage, folder) = (Arc::clone(storage), folder.clone());
        async move {
            storage
                .meta_list_after(&folder, Some(start), limit)
                .await
                .unwrap()
        }
    };
    assert_eq!(after("t05", 3).await, ["t06", "t07", "t08"]);
    // A start no tag could be (not a path segment as such) still sorts as text.
    assert_eq!(after("t05~/", 2).await, ["t06", "t07"]);
    assert!(after("zz", 3).await.is_empty());
}

/// A page larger than one listing request answers (S3 gives at most 1,000 keys per request)
/// is the folder's sorted names all the same, also when it asks for more than are left.
pub async fn meta_list_after_pages_beyond_one_request(storage: &Arc<dyn Storage>) {
    let mut tags: Vec<String> = (0..1_003).map(|i| format!("t{i:04}")).collect();
    stream::iter(&tags)
        .for_each_concurrent(32, |tag| {
            let storage = Arc::clone(storage);
            async move {
                storage
                    .meta_put(&tag_key("big", tag), Bytes::from("x"))
                    .await
                    .unwrap();
            }
        })
        .await;
    tags.sort();
    let folder = Key::tags(&RepoName::parse("big").unwrap());
    let everything = storage
        .meta_list_after(&folder, None, usize::MAX)
        .await
        .unwrap();
    assert_eq!(everything, tags);
    let rest = storage
        .meta_list_after(&folder, Some("t0001"), 1_001)
        .await
        .unwrap();
    assert_eq!(rest, tags[2..]);
}

pub async fn deleting_many_objects_removes_exactly_those_named(storage: &Arc<dyn Storage>) {
    let named: Vec<Key> = (0..3).map(|i| tag_key("many", &format!("t{i}"))).collect();
    let kept = tag_key("many", "kept");
    for key in named.iter().chain([&kept]) {
        storage.meta_put(key, Bytes::from("x")).await.unwrap();
    }
    let mut asked = named.clone();
    // Missing ones are skipped.
    asked.push(tag_key("many", "never-written"));
    storage.meta_delete_all(&asked).await.unwrap();
    for key in &named {
        assert_eq!(storage.meta_get(key).await.unwrap(), None, "{key:?}");
    }
    assert!(storage.meta_get(&kept).await.unwrap().is_some());
}

pub async fn deleting_many_markers_removes_exactly_those_named(storage: &Arc<dyn Storage>) {
    let named: Vec<Key> = (0..3).map(|i| tag_key("marks", &format!("m{i}"))).collect();
    let kept = tag_key("marks", "kept");
    for key in named.iter().chain([&kept]) {
        storage.marker_put(key).await.unwrap();
    }
    storage.marker_delete_all(&named).await.unwrap();
    for key in &named {
        assert_eq!(storage.meta_get(key).await.unwrap(), None, "{key:?}");
    }
    assert!(storage.meta_get(&kept).await.unwrap().is_some());
}
