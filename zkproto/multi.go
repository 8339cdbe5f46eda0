package zkproto

import (
	"errors"
	"fmt"
)

// ErrBadMultiOp is returned when a multi request or response holds an op
// type that may not appear in one.
var ErrBadMultiOp = errors.New("zkproto: invalid op type in multi")

// MultiOp is one op of a multi or multiRead request. Body's type follows
// Type: *CreateRequest for create, create2 and createContainer,
// *CreateTTLRequest for createTTL, *DeleteRequest, *SetDataRequest,
// *CheckVersionRequest, and (in multiRead) *GetChildrenRequest and
// *GetDataRequest.
type MultiOp struct {
	Type OpCode
	Body Record
}

// MultiRequest is the body of multi and multiRead: each op behind a
// MultiHeader{type, false, -1}, the list ended by MultiHeader{-1, true, -1}.
type MultiRequest struct {
	Ops []MultiOp
}

// Append implements Record.
func (r *MultiRequest) Append(b []byte) []byte {
	for i := range r.Ops {
		h := MultiHeader{Type: r.Ops[i].Type, Err: -1}
		b = h.Append(b)
		b = r.Ops[i].Body.Append(b)
	}
	return multiEnd.Append(b)
}

// Decode implements Record. Every op costs at least a 9-byte header, so the
// number of ops is bounded by the frame.
func (r *MultiRequest) Decode(d *Decoder) error {
	r.Ops = grow(r.Ops, 0)
	for {
		var h MultiHeader
		if h.Decode(d) != nil || h.Done {
			return d.Err()
		}
		body := newMultiOpBody(h.Type)
		if body == nil {
			d.fail(fmt.Errorf("%w: %v", ErrBadMultiOp, h.Type))
			return d.Err()
		}
		if body.Decode(d) != nil {
			return d.Err()
		}
		r.Ops = append(r.Ops, MultiOp{Type: h.Type, Body: body})
	}
}

// newMultiOpBody returns an empty body for an op allowed in a multi request,
// or nil for any other op.
func newMultiOpBody(op OpCode) Record {
	switch op {
	case OpCreate, OpCreate2, OpCreateContainer:
		return &CreateRequest{}
	case OpCreateTTL:
		return &CreateTTLRequest{}
	case OpDelete:
		return &DeleteRequest{}
	case OpSetData:
		return &SetDataRequest{}
	case OpCheck:
		return &CheckVersionRequest{}
	case OpGetChildren:
		return &GetChildrenRequest{}
	case OpGetData:
		return &GetDataRequest{}
	}
	return nil
}

// MultiResult is one op's result in a MultiResponse. Type is the op's type,
// or OpError for a failed op (and for every op of a failed multi, whose
// results are 0 before the failing op, its code at it and
// ErrRuntimeInconsistency after it). Body's type follows Type:
// *CreateResponse for create; *Create2Response for create2, createContainer
// and createTTL; *SetDataResponse; *GetChildrenResponse; *GetDataResponse;
// *ErrorResponse for OpError; nil for delete and check.
type MultiResult struct {
	Type OpCode
	Err  Code
	Body Record
}

// MultiResponse answers multi and multiRead: each result behind a
// MultiHeader{type, false, err}, the list ended by MultiHeader{-1, true, -1}.
type MultiResponse struct {
	Results []MultiResult
}

// Append implements Record.
func (r *MultiResponse) Append(b []byte) []byte {
	for i := range r.Results {
		res := &r.Results[i]
		h := MultiHeader{Type: res.Type, Err: res.Err}
		b = h.Append(b)
		if res.Body != nil {
			b = res.Body.Append(b)
		}
	}
	return multiEnd.Append(b)
}

// Decode implements Record.
func (r *MultiResponse) Decode(d *Decoder) error {
	r.Results = grow(r.Results, 0)
	for {
		var h MultiHeader
		if h.Decode(d) != nil || h.Done {
			return d.Err()
		}
		body, ok := newMultiResultBody(h.Type)
		if !ok {
			d.fail(fmt.Errorf("%w: %v", ErrBadMultiOp, h.Type))
			return d.Err()
		}
		if body != nil && body.Decode(d) != nil {
			return d.Err()
		}
		r.Results = append(r.Results, MultiResult{Type: h.Type, Err: h.Err, Body: body})
	}
}

// newMultiResultBody returns an empty body for a result type; ok is false for
// a type that cannot appear in a MultiResponse.
func newMultiResultBody(op OpCode) (body Record, ok bool) {
	switch op {
	case OpCreate:
		return &CreateResponse{}, true
	case OpCreate2, OpCreateContainer, OpCreateTTL:
		return &Create2Response{}, true
	case OpDelete, OpCheck:
		return nil, true
	case OpSetData:
		return &SetDataResponse{}, true
	case OpGetChildren:
		return &GetChildrenResponse{}, true
	case OpGetData:
		return &GetDataResponse{}, true
	case OpError:
		return &ErrorResponse{}, true
	}
	return nil, false
}
