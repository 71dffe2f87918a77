// Package s3local owns the simulator's S3 endpoint (DESIGN §4): the
// embedded S3 API server that `cumulus simulate` starts by default, and the
// one way the simulator builds an AWS SDK client for whichever endpoint it
// is given, the embedded one, MinIO, or any other S3 API.
//
// The embedded server speaks the S3 REST protocol through gofakes3, with a
// storage backend of our own (store.go) rather than one of gofakes3's: the
// bundled bolt backend keeps every object as one value inside the database
// and the bundled multipart uploader keeps parts in memory until the upload
// completes, so a large granule would be held in memory several times over
// and an interrupted multipart upload would not survive a restart. Here
// object data lives in plain files under the simulation folder and a bbolt
// database indexes them, so a restarted simulation finds its buckets,
// objects and in-progress multipart uploads where it left them.
//
// Nothing in the simulator talks to the server except through the SDK
// client from Client: what runs against MinIO runs against the embedded
// server and the other way round.
package s3local
