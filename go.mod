module plannr-import

go 1.26.8

require (
	github.com/biter777/countries v1.7.5
	github.com/gocarina/gocsv v0.0.0-20240520201108-78e41c74b4b1
	github.com/nyaruka/phonenumbers v1.8.1
)

require (
	golang.org/x/text v0.23.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)
