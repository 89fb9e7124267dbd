//! [`Request::decode`]: from a sound frame to a typed request.

use bytes::{Bytes, BytesMut};

use super::{
    AclFilterMsg, AuthRequest, CommitOffsets, CreateAcls, CreateStream, Credit, ErrorBody,
    FetchOffsets, FetchRequest, Heartbeat, HelloRequest, JoinGroup, LeaveGroup, ProduceRequest,
    PutUser, StreamRef, Subscribe, UserRef,
};
use crate::error::{ErrorCode, PayloadError, RequestError};
use crate::frame::Frame;
use crate::opcode::Opcode;

/// A request a client may send, decoded from its frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Version negotiation.
    Hello(HelloRequest),
    /// One step of a SASL exchange.
    Auth(AuthRequest),
    /// Liveness check; the payload (any bytes) is echoed in the response.
    Ping(Bytes),
    /// The client is closing; the body gives the reason (empty payload means `OK`).
    Goodbye(ErrorBody),
    /// Create a stream.
    CreateStream(CreateStream),
    /// Delete a stream.
    DeleteStream(StreamRef),
    /// List streams (empty payload).
    ListStreams,
    /// Describe a stream.
    DescribeStream(StreamRef),
    /// Append batches.
    Produce(ProduceRequest),
    /// Read batches.
    Fetch(FetchRequest),
    /// Start a push subscription on the frame's stream id.
    Subscribe(Subscribe),
    /// Grant the subscription on the frame's stream id more bytes.
    Credit(Credit),
    /// End the subscription on the frame's stream id (empty payload).
    Unsubscribe,
    /// Join a group.
    JoinGroup(JoinGroup),
    /// Group heartbeat.
    Heartbeat(Heartbeat),
    /// Leave a group.
    LeaveGroup(LeaveGroup),
    /// Commit offsets.
    CommitOffsets(CommitOffsets),
    /// Read committed offsets.
    FetchOffsets(FetchOffsets),
    /// Describe a group (its name, with stream-reference layout).
    DescribeGroup(StreamRef),
    /// GROUP_DELETE: an empty group and its offsets.
    DeleteGroup(StreamRef),
    /// List groups (empty payload).
    ListGroups,
    /// INIT_PRODUCER: a fresh idempotent producer id.
    InitProducer,
    /// USER_PUT: set a user's credentials.
    PutUser(PutUser),
    /// USER_DELETE: remove a user.
    DeleteUser(UserRef),
    /// USER_LIST (empty payload).
    ListUsers,
    /// ACL_CREATE: add ACLs.
    CreateAcls(CreateAcls),
    /// ACL_LIST: the ACLs matching a filter.
    ListAcls(AclFilterMsg),
    /// ACL_DELETE: remove the ACLs matching a filter.
    DeleteAcls(AclFilterMsg),
}

impl Request {
    /// Decodes the request carried by `frame`. Frame-level checks have already passed.
    pub fn decode(frame: &Frame) -> Result<Request, RequestError> {
        if frame.is_response() {
            return Err(RequestError::UnexpectedResponse {
                opcode: frame.opcode,
            });
        }
        let malformed = |opcode: Opcode| {
            move |source| RequestError::Malformed {
                opcode: opcode.name(),
                source,
            }
        };
        match Opcode::from_u8(frame.opcode) {
            Some(Opcode::Hello) => HelloRequest::decode(&frame.payload)
                .map(Request::Hello)
                .map_err(malformed(Opcode::Hello)),
            Some(Opcode::Auth) => AuthRequest::decode(&frame.payload)
                .map(Request::Auth)
                .map_err(malformed(Opcode::Auth)),
            Some(Opcode::Ping) => Ok(Request::Ping(frame.payload.clone())),
            Some(Opcode::Goodbye) if frame.payload.is_empty() => {
                Ok(Request::Goodbye(ErrorBody::new(ErrorCode::Ok, "")))
            }
            Some(Opcode::Goodbye) => ErrorBody::decode(&frame.payload)
                .map(Request::Goodbye)
                .map_err(malformed(Opcode::Goodbye)),
            Some(Opcode::StreamCreate) => CreateStream::decode(&frame.payload)
                .map(Request::CreateStream)
                .map_err(malformed(Opcode::StreamCreate)),
            Some(Opcode::StreamDelete) => StreamRef::decode(&frame.payload)
                .map(Request::DeleteStream)
                .map_err(malformed(Opcode::StreamDelete)),
            Some(Opcode::StreamList) if frame.payload.is_empty() => Ok(Request::ListStreams),
            Some(Opcode::StreamList) => Err(malformed(Opcode::StreamList)(
                crate::error::PayloadError::TrailingBytes {
                    extra: frame.payload.len(),
                },
            )),
            Some(Opcode::StreamDescribe) => StreamRef::decode(&frame.payload)
                .map(Request::DescribeStream)
                .map_err(malformed(Opcode::StreamDescribe)),
            Some(Opcode::Produce) => ProduceRequest::decode(&frame.payload)
                .map(Request::Produce)
                .map_err(malformed(Opcode::Produce)),
            Some(Opcode::Fetch) => FetchRequest::decode(&frame.payload)
                .map(Request::Fetch)
                .map_err(malformed(Opcode::Fetch)),
            Some(Opcode::Subscribe) => Subscribe::decode(&frame.payload)
                .map(Request::Subscribe)
                .map_err(malformed(Opcode::Subscribe)),
            Some(Opcode::Credit) => Credit::decode(&frame.payload)
                .map(Request::Credit)
                .map_err(malformed(Opcode::Credit)),
            Some(Opcode::Unsubscribe) if frame.payload.is_empty() => Ok(Request::Unsubscribe),
            Some(Opcode::Unsubscribe) => Err(malformed(Opcode::Unsubscribe)(
                crate::error::PayloadError::TrailingBytes {
                    extra: frame.payload.len(),
                },
            )),
            Some(Opcode::GroupJoin) => JoinGroup::decode(&frame.payload)
                .map(Request::JoinGroup)
                .map_err(malformed(Opcode::GroupJoin)),
            Some(Opcode::GroupHeartbeat) => Heartbeat::decode(&frame.payload)
                .map(Request::Heartbeat)
                .map_err(malformed(Opcode::GroupHeartbeat)),
            Some(Opcode::GroupLeave) => LeaveGroup::decode(&frame.payload)
                .map(Request::LeaveGroup)
                .map_err(malformed(Opcode::GroupLeave)),
            Some(Opcode::OffsetCommit) => CommitOffsets::decode(&frame.payload)
                .map(Request::CommitOffsets)
                .map_err(malformed(Opcode::OffsetCommit)),
            Some(Opcode::OffsetFetch) => FetchOffsets::decode(&frame.payload)
                .map(Request::FetchOffsets)
                .map_err(malformed(Opcode::OffsetFetch)),
            Some(Opcode::GroupDescribe) => StreamRef::decode(&frame.payload)
                .map(Request::DescribeGroup)
                .map_err(malformed(Opcode::GroupDescribe)),
            Some(Opcode::GroupDelete) => StreamRef::decode(&frame.payload)
                .map(Request::DeleteGroup)
                .map_err(malformed(Opcode::GroupDelete)),
            Some(Opcode::InitProducer) if frame.payload.is_empty() => Ok(Request::InitProducer),
            Some(Opcode::InitProducer) => Err(malformed(Opcode::InitProducer)(
                crate::error::PayloadError::TrailingBytes {
                    extra: frame.payload.len(),
                },
            )),
            Some(Opcode::GroupList) if frame.payload.is_empty() => Ok(Request::ListGroups),
            Some(Opcode::GroupList) => Err(malformed(Opcode::GroupList)(
                crate::error::PayloadError::TrailingBytes {
                    extra: frame.payload.len(),
                },
            )),
            Some(Opcode::UserPut) => PutUser::decode(&frame.payload)
                .map(Request::PutUser)
                .map_err(malformed(Opcode::UserPut)),
            Some(Opcode::UserDelete) => UserRef::decode(&frame.payload)
                .map(Request::DeleteUser)
                .map_err(malformed(Opcode::UserDelete)),
            Some(Opcode::UserList) if frame.payload.is_empty() => Ok(Request::ListUsers),
            Some(Opcode::UserList) => Err(malformed(Opcode::UserList)(
                crate::error::PayloadError::TrailingBytes {
                    extra: frame.payload.len(),
                },
            )),
            Some(Opcode::AclCreate) => CreateAcls::decode(&frame.payload)
                .map(Request::CreateAcls)
                .map_err(malformed(Opcode::AclCreate)),
            Some(Opcode::AclList) => AclFilterMsg::decode(&frame.payload)
                .map(Request::ListAcls)
                .map_err(malformed(Opcode::AclList)),
            Some(Opcode::AclDelete) => AclFilterMsg::decode(&frame.payload)
                .map(Request::DeleteAcls)
                .map_err(malformed(Opcode::AclDelete)),
            // PUSH and GROUP_REBALANCE flow from server to client only: as requests they are
            // unknown.
            Some(Opcode::Connection | Opcode::Push | Opcode::GroupRebalance) | None => {
                Err(RequestError::UnknownOpcode {
                    opcode: frame.opcode,
                })
            }
        }
    }

    /// The operation of this request.
    pub fn opcode(&self) -> Opcode {
        match self {
            Request::Hello(_) => Opcode::Hello,
            Request::Auth(_) => Opcode::Auth,
            Request::Ping(_) => Opcode::Ping,
            Request::Goodbye(_) => Opcode::Goodbye,
            Request::CreateStream(_) => Opcode::StreamCreate,
            Request::DeleteStream(_) => Opcode::StreamDelete,
            Request::ListStreams => Opcode::StreamList,
            Request::DescribeStream(_) => Opcode::StreamDescribe,
            Request::Produce(_) => Opcode::Produce,
            Request::Fetch(_) => Opcode::Fetch,
            Request::Subscribe(_) => Opcode::Subscribe,
            Request::Credit(_) => Opcode::Credit,
            Request::Unsubscribe => Opcode::Unsubscribe,
            Request::JoinGroup(_) => Opcode::GroupJoin,
            Request::Heartbeat(_) => Opcode::GroupHeartbeat,
            Request::LeaveGroup(_) => Opcode::GroupLeave,
            Request::CommitOffsets(_) => Opcode::OffsetCommit,
            Request::FetchOffsets(_) => Opcode::OffsetFetch,
            Request::DescribeGroup(_) => Opcode::GroupDescribe,
            Request::DeleteGroup(_) => Opcode::GroupDelete,
            Request::ListGroups => Opcode::GroupList,
            Request::InitProducer => Opcode::InitProducer,
            Request::PutUser(_) => Opcode::UserPut,
            Request::DeleteUser(_) => Opcode::UserDelete,
            Request::ListUsers => Opcode::UserList,
            Request::CreateAcls(_) => Opcode::AclCreate,
            Request::ListAcls(_) => Opcode::AclList,
            Request::DeleteAcls(_) => Opcode::AclDelete,
        }
    }

    /// This request as a frame, after checking that the server will accept its fields (every
    /// string within its field's maximum): exactly what [`decode`](Self::decode) of the frame
    /// gives back. A request that fails this would be refused as MALFORMED_PAYLOAD.
    pub fn to_checked_frame(&self, correlation_id: u64) -> Result<Frame, RequestError> {
        let frame = self.to_frame(correlation_id);
        let decoded = Request::decode(&frame)?;
        if decoded != *self {
            return Err(RequestError::Malformed {
                opcode: self.opcode().name(),
                source: PayloadError::InvalidValue {
                    field: "request",
                    value: 0,
                },
            });
        }
        Ok(frame)
    }

    /// The frame a client sends for this request.
    pub fn to_frame(&self, correlation_id: u64) -> Frame {
        let mut payload = BytesMut::new();
        match self {
            Request::Hello(hello) => hello.encode(&mut payload),
            Request::Auth(auth) => auth.encode(&mut payload),
            Request::Ping(bytes) => {
                return Frame::request(Opcode::Ping, correlation_id, bytes.clone());
            }
            Request::Goodbye(body) => body.encode(&mut payload),
            Request::CreateStream(create) => create.encode(&mut payload),
            Request::DeleteStream(stream) | Request::DescribeStream(stream) => {
                stream.encode(&mut payload)
            }
            Request::ListStreams
            | Request::Unsubscribe
            | Request::ListGroups
            | Request::InitProducer
            | Request::ListUsers => {}
            Request::PutUser(put) => put.encode(&mut payload),
            Request::DeleteUser(user) => user.encode(&mut payload),
            Request::CreateAcls(create) => create.encode(&mut payload),
            Request::ListAcls(filter) | Request::DeleteAcls(filter) => filter.encode(&mut payload),
            Request::JoinGroup(join) => join.encode(&mut payload),
            Request::Heartbeat(heartbeat) => heartbeat.encode(&mut payload),
            Request::LeaveGroup(leave) => leave.encode(&mut payload),
            Request::CommitOffsets(commit) => commit.encode(&mut payload),
            Request::FetchOffsets(fetch) => fetch.encode(&mut payload),
            Request::DescribeGroup(group) | Request::DeleteGroup(group) => {
                group.encode(&mut payload)
            }
            Request::Subscribe(subscribe) => subscribe.encode(&mut payload),
            Request::Credit(credit) => credit.encode(&mut payload),
            Request::Produce(produce) => produce.encode(&mut payload),
            Request::Fetch(fetch) => fetch.encode(&mut payload),
        }
        Frame::request(self.opcode(), correlation_id, payload.freeze())
    }
}
