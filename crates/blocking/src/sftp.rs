//! SFTP over a blocking session (being built for issue 13).
