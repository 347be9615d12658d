//! `GET /v2/<name>/blobs/<digest>` with `Range`: part of a blob (a file inside a layer, the
//! tail of an interrupted download), streamed. A part cannot be checked against the blob's
//! digest, so these bytes are unverified.

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use http::header::RANGE;
use http::{HeaderValue, Method, StatusCode};
use oci_digest::Digest;

use crate::client::{Client, pull_scopes};
use crate::error::Error;
use crate::headers::content_range_start;
use crate::repository::Repository;
use crate::request::Request;

impl Client {
    /// `length` bytes of a blob from byte `offset` on (to its end when `length` is `None`),
    /// unverified. A registry that ignores `Range` and sends the whole blob is read past the
    /// bytes before `offset`.
    pub async fn get_blob_range(
        &self,
        repository: &Repository,
        digest: &Digest,
        offset: u64,
        length: Option<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, Error>>, Error> {
        self.pull_through_mirrors(
            repository,
            true,
            |_| false,
            |source| async move {
                self.get_blob_range_at(&source, digest, offset, length)
                    .await
            },
        )
        .await
    }

    async fn get_blob_range_at(
        &self,
        repository: &Repository,
        digest: &Digest,
        offset: u64,
        length: Option<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, Error>>, Error> {
        if length == Some(0) {
            return Ok(futures_util::stream::empty().boxed());
        }
        let last = length.map(|length| offset.saturating_add(length) - 1);
        let range = match last {
            Some(last) => format!("bytes={offset}-{last}"),
            None => format!("bytes={offset}-"),
        };
        let url = self.repository_url(repository, &format!("blobs/{digest}"))?;
        let request = Request::new(
            Method::GET,
            url.clone(),
            repository.registry(),
            pull_scopes(repository)?,
        )
        // Digits and ASCII punctuation always make a valid header value.
        .header(
            RANGE,
            HeaderValue::from_str(&range).map_err(|_| Error::InvalidHeader {
                url: url.to_string(),
                name: "Range",
                value: range.clone(),
            })?,
        )
        .follow_redirects()
        .bulk();
        let response = self
            .transport()
            .send(request)
            .await?
            .expect(&[StatusCode::PARTIAL_CONTENT, StatusCode::OK])
            .await?;
        let skip = match response.status() {
            StatusCode::OK => offset,
            _ => {
                let start = response
                    .parsed_header("content-range", content_range_start)?
                    .map(|(start, _)| start);
                if start != Some(offset) {
                    return Err(Error::ResumeRefused {
                        url: url.to_string(),
                        offset,
                        status: StatusCode::PARTIAL_CONTENT,
                    });
                }
                0
            }
        };
        Ok(window(response.into_stream(), skip, length).boxed())
    }
}

/// The bytes of `body` after the first `skip`, at most `take` of them; the stream ends
/// once `take` bytes went by.
fn window<S>(
    body: S,
    skip: u64,
    take: Option<u64>,
) -> impl futures_core::Stream<Item = Result<Bytes, Error>> + Send + 'static
where
    S: futures_core::Stream<Item = Result<Bytes, Error>> + Send + 'static,
{
    let state = (skip, take.unwrap_or(u64::MAX));
    body.scan(state, |(skip, left), item| {
        if *left == 0 {
            return futures_util::future::ready(None);
        }
        let item = item.map(|chunk| {
            let dropped = (*skip).min(chunk.len() as u64);
            *skip -= dropped;
            let chunk = chunk.slice(dropped as usize..);
            let kept = (*left).min(chunk.len() as u64);
            *left -= kept;
            chunk.slice(..kept as usize)
        });
        futures_util::future::ready(Some(item))
    })
    .filter(|item| futures_util::future::ready(!matches!(item, Ok(chunk) if chunk.is_empty())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::TryStreamExt;

    #[tokio::test]
    async fn windows_skip_and_stop() {
        let cut = |skip, take| {
            let chunks = ["abc", "def", "ghi"].map(|text| Ok::<_, Error>(Bytes::from(text)));
            window(futures_util::stream::iter(chunks), skip, take).try_collect::<Vec<Bytes>>()
        };
        assert_eq!(cut(4, Some(3)).await.unwrap().concat(), b"efg");
        assert_eq!(cut(0, None).await.unwrap().concat(), b"abcdefghi");
        assert_eq!(cut(8, None).await.unwrap().concat(), b"i");
        assert!(cut(9, Some(2)).await.unwrap().is_empty());
    }
}
