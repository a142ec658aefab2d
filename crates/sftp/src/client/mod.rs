//! The client engine: request ids, outstanding requests, replies matched to them, and the
//! read and write pipelines of a transfer. (Being built for issue 13.)
