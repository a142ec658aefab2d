//! The `sftp` subsystem on a server channel, written once for every server adapter. (Being
//! built for issue 13.)
