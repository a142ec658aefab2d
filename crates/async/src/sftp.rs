//! SFTP over an async session (being built for issue 13).
