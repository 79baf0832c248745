//! The outer container: an uncompressed ustar stream whose first member is the signed manifest
//! envelope, followed by each member zstd-compressed, in manifest order.

pub mod members;
pub mod reader;
pub mod writer;
