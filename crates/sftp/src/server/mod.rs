//! The server engine: every request is a decision or goes to a filesystem trait; a local
//! backend confined to a root. (Being built for issue 13.)
