//! Whole images in one call: pull the manifest for a platform, pull an image's blobs into
//! writers or files, push an image from a config and layers. Built on the endpoint calls of
//! [`crate::endpoints`], which stay available for anything these do not cover.

pub mod pull;
pub mod push;
