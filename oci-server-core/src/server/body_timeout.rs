//! Request bodies that go silent: [`SilenceLimit`] ends a body with an error once the client
//! has sent nothing for the body timeout while the registry was waiting for data.
//!
//! The error reaches the store like any other failed read of the body (a client that went
//! away), so the store's normal error path runs: an upload keeps the offset it last saved,
//! which only ever covers durable data, and the client can resume from there. Only the time
//! spent waiting for the client counts; a registry busy writing a chunk is not the client's
//! silence.

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::{body::BoxError, log_limit::LimitLog};

static SILENT_BODIES: LimitLog = LimitLog::new();

pin_project_lite::pin_project! {
    /// A request body that fails after `limit` of silence.
    pub(super) struct SilenceLimit<B> {
        #[pin]
        body: B,
        limit: Duration,
        // Armed when a poll finds no data, disarmed when data comes; made on first need.
        timer: Option<Pin<Box<Sleep>>>,
        armed: bool,
    }
}

impl<B> SilenceLimit<B> {
    pub(super) fn new(body: B, limit: Duration) -> Self {
        Self {
            body,
            limit,
            timer: None,
            armed: false,
        }
    }
}

impl<B> Body for SilenceLimit<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, BoxError>>> {
        let this = self.project();
        if let Poll::Ready(frame) = this.body.poll_frame(cx) {
            *this.armed = false;
            return Poll::Ready(frame.map(|result| result.map_err(Into::into)));
        }
        let deadline = Instant::now() + *this.limit;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if !*this.armed {
            timer.as_mut().reset(deadline);
            *this.armed = true;
        }
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let limit = *this.limit;
        SILENT_BODIES.hit(|hits| {
            tracing::warn!(
                limit_seconds = limit.as_secs(),
                requests = hits,
                "request body sent nothing within the body timeout; dropped"
            );
        });
        Poll::Ready(Some(Err(Box::new(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("the request body sent nothing for {limit:?}"),
        )))))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http_body_util::{BodyExt, StreamBody};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_body_that_goes_silent_fails_and_one_that_talks_does_not() {
        let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, io::Error>>(1);
        let stream = tokio_stream_from(receiver);
        let mut body = SilenceLimit::new(StreamBody::new(stream), Duration::from_secs(10));
        let feeder = tokio::spawn(async move {
            for _ in 0..3 {
                // Each frame comes well within the limit, the three together well past it.
                tokio::time::sleep(Duration::from_secs(8)).await;
                let _ = sender.send(Ok(Frame::data(Bytes::from_static(b"x")))).await;
            }
            std::future::pending::<()>().await;
        });
        for _ in 0..3 {
            let frame = body.frame().await;
            assert!(matches!(frame, Some(Ok(_))), "a talking body is not cut");
        }
        let silent = body.frame().await;
        let error = silent.and_then(Result::err).map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("sent nothing")));
        feeder.abort();
    }

    fn tokio_stream_from<T>(
        mut receiver: tokio::sync::mpsc::Receiver<T>,
    ) -> impl futures_core::Stream<Item = T> {
        futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx))
    }
}
