module github.com/vrkeeper/vrkeeper

go 1.26.8
