//! Stream and consumer-group administration.

use memstream_protocol::message::{
    CreateStream, GroupDescription, GroupList, StreamDescription, StreamList, StreamRef,
    StreamSettings, StreamSummary,
};
use memstream_protocol::Request;

use crate::client::Client;
use crate::error::ClientError;

/// Administrative calls, borrowed from a [`Client`] with [`Client::admin`].
///
/// ```no_run
/// # async fn demo() -> Result<(), memstream_client::ClientError> {
/// use memstream_protocol::message::{StorageKind, StreamSettings};
/// let client = memstream_client::Client::connect("127.0.0.1:7878").await?;
/// let settings = StreamSettings { storage: Some(StorageKind::Memory), ..Default::default() };
/// client.admin().create_stream("orders", 4, settings).await?;
/// for stream in client.admin().list_streams().await? {
///     println!("{} ({} partitions)", stream.name, stream.partitions);
/// }
/// # Ok(()) }
/// ```
pub struct Admin<'a> {
    client: &'a Client,
}

fn malformed(e: impl std::fmt::Display) -> ClientError {
    ClientError::Malformed(e.to_string())
}

impl<'a> Admin<'a> {
    pub(crate) fn new(client: &'a Client) -> Admin<'a> {
        Admin { client }
    }

    pub(crate) fn client(&self) -> &'a Client {
        self.client
    }

    /// Creates a stream; `partitions` 0 takes the server's default, unset settings too.
    pub async fn create_stream(
        &self,
        name: &str,
        partitions: u32,
        settings: StreamSettings,
    ) -> Result<(), ClientError> {
        let request = Request::CreateStream(CreateStream {
            name: name.to_owned(),
            partitions,
            settings,
        });
        self.client.call(&request).await.map(drop)
    }

    /// Deletes a stream and its data.
    pub async fn delete_stream(&self, name: &str) -> Result<(), ClientError> {
        let request = Request::DeleteStream(StreamRef {
            name: name.to_owned(),
        });
        self.client.call(&request).await.map(drop)
    }

    /// Every stream, by name.
    pub async fn list_streams(&self) -> Result<Vec<StreamSummary>, ClientError> {
        let frame = self.client.call(&Request::ListStreams).await?;
        Ok(StreamList::decode(&frame.payload)
            .map_err(malformed)?
            .streams)
    }

    /// Settings and per-partition offsets of a stream.
    pub async fn describe_stream(&self, name: &str) -> Result<StreamDescription, ClientError> {
        let request = Request::DescribeStream(StreamRef {
            name: name.to_owned(),
        });
        let frame = self.client.call(&request).await?;
        StreamDescription::decode(&frame.payload).map_err(malformed)
    }

    /// Every consumer group, by name.
    pub async fn list_groups(&self) -> Result<Vec<String>, ClientError> {
        let frame = self.client.call(&Request::ListGroups).await?;
        Ok(GroupList::decode(&frame.payload).map_err(malformed)?.groups)
    }

    /// Members, assignments, committed offsets and lag of a group.
    pub async fn describe_group(&self, name: &str) -> Result<GroupDescription, ClientError> {
        let request = Request::DescribeGroup(StreamRef {
            name: name.to_owned(),
        });
        let frame = self.client.call(&request).await?;
        GroupDescription::decode(&frame.payload).map_err(malformed)
    }

    /// Deletes an empty group and its committed offsets (`GROUP_NOT_EMPTY` while it has
    /// members).
    pub async fn delete_group(&self, name: &str) -> Result<(), ClientError> {
        let request = Request::DeleteGroup(StreamRef {
            name: name.to_owned(),
        });
        self.client.call(&request).await.map(drop)
    }
}
